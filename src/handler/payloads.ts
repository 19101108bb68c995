/**
 * What each Lambda entry point accepts, parsed with the same schemas and messages as the rest of
 * the package: a malformed payload fails naming the field (CloudFormation shows it as the failure
 * reason), and never runs as something else or ends in a TypeError.
 */
import { SPEC_PROPERTY, TERRAFORM_KEY } from '../core/onboarding';
import { specProblems } from '../core/spec';
import * as z from '../core/zod';

const text = z.string().check(z.minLength(1, 'must be a non-empty string'));
const properties = z.record(z.string(), z.unknown());

const customResourceEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  RequestId: text,
  StackId: text,
  LogicalResourceId: text,
  PhysicalResourceId: z.optional(text),
  ResourceType: z.optional(z.string()),
  ResourceProperties: properties,
  OldResourceProperties: z.optional(properties),
}).check(z.superRefine((e, ctx) => {
  if (e.RequestType !== 'Create' && e.PhysicalResourceId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['PhysicalResourceId'], message: `is required for ${e.RequestType} (CloudFormation always sends it)`, input: undefined });
  }
}));

/** A CloudFormation custom resource event, as the Provider framework passes it. */
export type CustomResourceEvent = z.infer<typeof customResourceEventSchema>;

const syncEventSchema = z.object({
  'source': z.optional(z.string()),
  'detail-type': z.optional(z.string()),
  'time': z.optional(z.string().check(z.refine((t) => Number.isFinite(Date.parse(t)), 'must be an ISO 8601 time'))),
  'detail': z.optional(z.object({
    eventName: z.optional(z.string()),
    // What the call named (TagResource and UntagResource: resourceId; MoveAccount: accountId).
    requestParameters: z.optional(z.nullable(z.object({ resourceId: z.optional(z.string()), accountId: z.optional(z.string()) }))),
  })),
});

/** An EventBridge event: the schedule, or an Organizations event through CloudTrail. */
export type SyncEvent = z.infer<typeof syncEventSchema>;

const terraformPayloadSchema = z.object({
  [SPEC_PROPERTY]: z.optional(z.string()),
  [TERRAFORM_KEY]: z.optional(z.object({
    action: z.optional(z.enum(['create', 'update', 'delete'])),
    prev_input: z.optional(z.nullable(z.object({ [SPEC_PROPERTY]: z.optional(z.string()) }))),
  })),
}).check(z.superRefine((p, ctx) => {
  const action = p[TERRAFORM_KEY]?.action ?? 'create';
  if (action !== 'delete' && p[SPEC_PROPERTY] === undefined) {
    ctx.addIssue({ code: 'custom', path: [SPEC_PROPERTY], message: `is required for ${action} (the onboarding spec as JSON)`, input: undefined });
  }
}));

/** The input of `aws_lambda_invocation` with `lifecycle_scope = "CRUD"`. */
export type TerraformInput = z.infer<typeof terraformPayloadSchema>;

function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`Invalid ${what}: expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`);
  }
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = specProblems(parsed.error);
  throw new Error(`Invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
}

export const parseCustomResourceEvent = (value: unknown): CustomResourceEvent => parse(customResourceEventSchema, value, 'CloudFormation custom resource event');
export const parseSyncEvent = (value: unknown): SyncEvent => parse(syncEventSchema, value, 'sync event');
export const parseTerraformPayload = (value: unknown): TerraformInput => parse(terraformPayloadSchema, value, 'Terraform invocation input');
