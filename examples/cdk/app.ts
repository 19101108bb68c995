import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk from 'prowler-org-onboarding/cdk';

const app = new App();

// Deploy in the organization's management account (the StackSet reaches every member account).
const stack = new Stack(app, 'ProwlerOrganization', {
  env: { account: '111111111111', region: 'us-east-1' },
});

new cdk.ProwlerOrganization(stack, 'Prowler', {
  externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', // your Prowler tenant id (the wizard's External ID)
  organizationId: 'o-abc123def4',
  targets: ['r-ab12'], // the root: every account, new ones included
  // A Prowler API key (pk_…) you stored in Secrets Manager: read at run time, never in the template.
  // Its full ARN, with the 6-character suffix the console shows (a name alone can be ambiguous).
  apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ProwlerApiKey',
    'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf'),
});

app.synth();
