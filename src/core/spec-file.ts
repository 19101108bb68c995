/**
 * Spec files (`prowler-onboarding.yaml` or `.json`): read, parsed and validated, for the CLI and
 * for the constructs (one file drives every route).
 */
import type { AccountSelection, ConnectionTestOptions, RemovalBehaviour, ScanMode } from './onboarding-types';
import { loadSpecFile } from './spec-file-reader';

/** What a spec file sets for a construct: spread it into the construct's props. */
export interface SpecFileValues {
  /** Which accounts to onboard. */
  readonly selection?: AccountSelection;
  /** The organization this must run in. */
  readonly organizationId?: string;
  /** The External ID the roles trust. */
  readonly externalId?: string;
  /** The role name in every account. */
  readonly roleName?: string;
  /** How scans start. */
  readonly scanMode?: ScanMode;
  /** Connection testing. */
  readonly connection?: ConnectionTestOptions;
  /** What happens to providers that leave the selection. */
  readonly removal?: RemovalBehaviour;
  /** Prowler API requests in flight. */
  readonly concurrency?: number;
  /** The Prowler API's base URL. */
  readonly prowlerApiUrl?: string;
}

/** Spec files for the constructs. */
export class SpecFile {
  /**
   * Reads a spec file (YAML or JSON) and returns what it sets for a construct, e.g.
   * `new cdk.ProwlerOrganizationOnboarding(this, 'Onboarding', { ...core.SpecFile.load('prowler-onboarding.yaml'), apiKeySecret })`.
   * Throws one error listing every problem with its path in the file.
   */
  public static load(path: string): SpecFileValues {
    const { spec, problems } = loadSpecFile(path);
    if (!spec) throw new Error(`${path}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
    const values: Record<string, unknown> = {
      selection: spec.selection,
      organizationId: spec.organizationId,
      externalId: spec.externalId,
      roleName: spec.roleName,
      scanMode: spec.scanMode,
      connection: spec.connection,
      removal: spec.removal,
      concurrency: spec.concurrency,
      prowlerApiUrl: spec.prowlerApiUrl,
    };
    return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as SpecFileValues;
  }

  private constructor() {}
}
