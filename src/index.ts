/**
 * prowler-org-onboarding: onboard a whole AWS Organization to Prowler as code.
 *
 * - `core`: the ProwlerScan role as data, defaults, validators (no framework)
 * - `cdk`: AWS CDK constructs
 * - `cdktf`: the same constructs for Terraform (CDKTF)
 * - `cdktn`: the same constructs for CDK Terrain (cdktn, CDKTF's maintained continuation)
 */
export * as core from './core';
export * as cdk from './cdk';
export * as cdktf from './cdktf';
export * as cdktn from './cdktn';
