export * from './scan-role';
export * from './member-stackset';
export * from './organization-roles';
