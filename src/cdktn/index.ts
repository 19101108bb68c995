// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
export * from './scan-role';
export * from './member-stackset';
export * from './organization-roles';
export * from './onboarding';
export * from './organization';
export * from './event-forwarder';
