/**
 * zod as this package uses it, and the one place that imports it: the `zod/mini` API. Only what
 * the package calls is exported, so bundles keep only that: the Lambda's and the command's, and
 * `lib/core/zod.js` itself, which the build replaces with one bundled file (`bundle:zod`), so that
 * a synth loads one module instead of zod's ninety. No locale is loaded: every message a user
 * reads is the package's own (core's `specProblems`, the Prowler client's parse errors), and
 * zod's would only say "Invalid input".
 */

export {
  _default, array, boolean, enum, extend, int, literal, maxLength, maximum, meta, minLength, minimum, nullable, number, object,
  optional, partial, pipe, record, refine, regex, strictObject, string, superRefine, toJSONSchema, transform, union, unknown,
} from 'zod/mini';
export type { infer, ZodMiniType } from 'zod/mini';
export type { $ZodError } from 'zod/v4/core';
