// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import { AwsProvider } from '@cdktn/provider-aws/lib/provider';
import { App, TerraformStack } from 'cdktn';
import * as cdktn from 'prowler-org-onboarding/cdktn';

const app = new App();
const stack = new TerraformStack(app, 'prowler-organization');

// Apply with the organization's management account credentials.
new AwsProvider(stack, 'aws', { region: 'us-east-1' });

new cdktn.ProwlerOrganization(stack, 'Prowler', {
  externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', // your Prowler tenant id (the wizard's External ID)
  organizationId: 'o-abc123def4',
  targets: ['r-ab12'], // the root: every account, new ones included
  // A Prowler API key (pk_…) you stored in Secrets Manager: read at run time, never in the state.
  apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf',
});

app.synth();
