import { App } from 'aws-cdk-lib';
import { ControlPlaneStack } from '../lib/control-plane-stack.ts';
import { addSecurityChecks } from '../lib/security-checks.ts';

const app = new App();
addSecurityChecks(app);
new ControlPlaneStack(app, 'PrestageControlPlane', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
