import { readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { createInterceptorLambda } from '../../src/lambda/interceptor-lambda.ts';

/**
 * Permissions (the interceptor of one data region, AWS_REGION; tables by name, in the regions given):
 * - dynamodb:GetItem on PRESTAGE_PARTITIONS_TABLE in this region's replica (routing read where the request
 *   landed), and dynamodb:GetItem, PutItem on it in PRESTAGE_HOME_REGION (first write places a partition; a record
 *   the replica has not received yet); in the home region, both on the home table
 * - dynamodb:Scan, GetItem on PRESTAGE_CELLS_TABLE in this region's replica (cell directory)
 * - dynamodb:UpdateItem on PRESTAGE_ACCESS_STATS_TABLE in this region (access counts, recorded where they arrive)
 * - dynamodb:GetItem, UpdateItem, PutItem on every cell table `<cellTablePrefix>*` in every data region
 *   (reads, writes, mirror writes and read repair)
 * - the tables' KMS keys through DynamoDB only, by alias: the control-plane key in the home region, each data
 *   region's cell key elsewhere
 * The request's region is this Lambda's region; no header or variable overrides it.
 */

/** Lambda Function URL / HTTP API v2 entry point of the request interceptor (wiring: src/lambda/interceptor-lambda.ts). */
export const handler = createInterceptorLambda(readDataPlaneConfig());
