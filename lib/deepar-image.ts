/**
 * Registry accounts of SageMaker's built-in DeepAR forecasting image (`forecasting-deepar:1`) per region, from
 * the SageMaker "Docker Registry Paths" pages (the same table as the SageMaker Python SDK's
 * image_uri_config/forecasting-deepar.json).
 */
const DEEPAR_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '455444449433',
  'ap-east-1': '286214385809',
  'ap-northeast-1': '633353088612',
  'ap-northeast-2': '204372634319',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '991648021394',
  'ap-southeast-1': '475088953585',
  'ap-southeast-2': '514117268639',
  'ca-central-1': '469771592824',
  'cn-north-1': '390948362332',
  'cn-northwest-1': '387376663083',
  'eu-central-1': '495149712605',
  'eu-north-1': '669576153137',
  'eu-south-1': '257386234256',
  'eu-west-1': '224300973850',
  'eu-west-2': '644912444149',
  'eu-west-3': '749696950732',
  'me-south-1': '249704162688',
  'sa-east-1': '855470959533',
  'us-east-1': '522234722520',
  'us-east-2': '566113047672',
  'us-gov-west-1': '226302683700',
  'us-west-1': '632365934929',
  'us-west-2': '156387875391',
};

/** The regional DeepAR inference image, or undefined where SageMaker does not host it. */
export function deepArImageUri(region: string): string | undefined {
  const account = DEEPAR_REGISTRY_ACCOUNTS[region];
  if (!account) return undefined;
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}/forecasting-deepar:1`;
}
