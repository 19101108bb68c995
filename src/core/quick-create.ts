import type { QuickCreateLinkOptions } from './options';
import { partitionOfRegion, PROWLER_CLOUD_PARTITION, trustOutsidePartitionMessage, trustsProwlerCloud } from './partition';
import { checkFormat, problemsMessage, type FormatName } from './validate';

/** The console host of a region's partition. */
function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return `${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `${region}.console.amazonaws-us-gov.com`;
  return `${region}.console.aws.amazon.com`;
}

const PARAMETER_NAME = /^[A-Za-z0-9]{1,255}$/;
/** The standalone template's parameters that have one of core's formats. */
const TEMPLATE_PARAMETER_FORMATS: Record<string, FormatName> = {
  ExternalId: 'externalId', AccountId: 'accountId', IAMPrincipal: 'trustedPrincipal', OrganizationId: 'organizationId',
};
const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;

/**
 * Builds a CloudFormation Quick Create link: the console's create-stack form with the template and
 * parameters filled in. Every value is URL-encoded (the fragment carries a query string).
 */
export function quickCreateLink(options: QuickCreateLinkOptions): string {
  const stackName = options.stackName ?? 'ProwlerScan';
  const parameters = options.parameters ?? {};
  const problems = [...checkFormat('region', options.region, 'region')];
  if (!/^https:\/\/[^\s]+$/.test(options.templateUrl)) {
    problems.push(`templateUrl must be an https:// URL, got '${options.templateUrl}'`);
  }
  if (!STACK_NAME.test(stackName)) {
    problems.push(`stackName must be a letter followed by up to 127 letters, digits and hyphens, got '${stackName}'`);
  }
  // The template trusts Prowler Cloud unless told otherwise, which only works in its partition.
  if (checkFormat('region', options.region, 'region').length === 0) {
    const partition = partitionOfRegion(options.region);
    if (partition !== PROWLER_CLOUD_PARTITION && trustsProwlerCloud(parameters.AccountId)) {
      problems.push(trustOutsidePartitionMessage(partition, parameters.AccountId, { account: 'parameters.AccountId', principal: 'parameters.IAMPrincipal' }));
    }
  }
  for (const name of Object.keys(parameters)) {
    if (!PARAMETER_NAME.test(name)) problems.push(`parameters: '${name}' is not a CloudFormation parameter name (letters and digits only)`);
  }
  // The template's own patterns, checked here: a link it would reject is no link.
  for (const [name, format] of Object.entries(TEMPLATE_PARAMETER_FORMATS)) {
    const value = parameters[name];
    if (value !== undefined && !(name === 'OrganizationId' && value === '')) problems.push(...checkFormat(`parameters.${name}`, value, format));
  }
  if (problems.length > 0) throw new Error(problemsMessage('Quick Create link', problems));

  const query = [
    `templateURL=${encodeURIComponent(options.templateUrl)}`,
    `stackName=${encodeURIComponent(stackName)}`,
    ...Object.entries(parameters).map(([name, value]) => `param_${name}=${encodeURIComponent(value)}`),
  ].join('&');
  const region = encodeURIComponent(options.region);
  return `https://${consoleHost(options.region)}/cloudformation/home?region=${region}#/stacks/quickcreate?${query}`;
}
