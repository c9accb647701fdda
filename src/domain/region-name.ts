/**
 * The shape of an AWS region name: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. A syntax check only, with no
 * list of regions, so a region newer than the installed SDK still passes; the CDK configuration checks names
 * against RegionInfo where a wrong but well-formed name must be caught. It lives in the domain rather than in lib
 * so that runtime code, which must not import the CDK, can share it with the constructs' prop checks.
 */
const REGION_NAME_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Whether `value` is shaped like an AWS region name (see REGION_NAME_PATTERN). */
export function isRegionName(value: string): boolean {
  return REGION_NAME_PATTERN.test(value);
}
