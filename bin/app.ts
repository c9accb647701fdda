import { App } from 'aws-cdk-lib';
import { buildPrestageApp } from '../lib/prestage-app.ts';
import { PrestageConfigError, readPrestageConfig } from '../lib/prestage-config.ts';
import { addSecurityChecks } from '../lib/security-checks.ts';

const app = new App();
try {
  const config = readPrestageConfig(app.node);
  addSecurityChecks(app);
  buildPrestageApp(app, config, process.env.CDK_DEFAULT_ACCOUNT);
} catch (error) {
  if (!(error instanceof PrestageConfigError)) throw error;
  // One line per problem, no stack trace: each names the context key and how to fix it.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
app.synth();
