/**
 * A small CloudFormation evaluator for tests: resolves Ref, Fn::Sub, Fn::Join, Fn::If, Fn::Equals,
 * Fn::Not, Fn::And, Fn::Or, Condition and AWS::NoValue against given parameters, so renderings
 * from different flavours can be compared as the IAM documents AWS would see.
 */
type Json = any;

export interface EvalContext {
  /** Parameter values (a CommaDelimitedList as a string[]). Defaults from the template fill the rest. */
  readonly parameters?: Record<string, string | string[]>;
  readonly partition?: string;
  readonly region?: string;
  readonly accountId?: string;
  readonly stackName?: string;
  /**
   * What a Ref or Fn::GetAtt of a resource evaluates to (by its type), so that renderings whose
   * references differ in name can be compared. Without it such a reference throws.
   */
  readonly resourceRef?: (type: string, logicalId: string, attribute?: string) => string;
}

const NO_VALUE = Symbol('AWS::NoValue');

export class CfnEvaluator {
  private readonly params: Record<string, string | string[]>;
  private readonly conditions: Record<string, Json>;

  private readonly resourceRef?: EvalContext['resourceRef'];

  constructor(private readonly template: Json, ctx: EvalContext = {}) {
    this.resourceRef = ctx.resourceRef;
    const defaults: Record<string, string | string[]> = {};
    for (const [name, p] of Object.entries<Json>(template.Parameters ?? {})) {
      if (p.Default !== undefined) {
        defaults[name] = p.Type === 'CommaDelimitedList' ? String(p.Default).split(',') : String(p.Default);
      }
    }
    this.params = {
      'AWS::Partition': ctx.partition ?? 'aws',
      'AWS::Region': ctx.region ?? 'us-east-1',
      'AWS::AccountId': ctx.accountId ?? '111111111111',
      'AWS::StackName': ctx.stackName ?? 'test-stack',
      'AWS::StackId': `arn:${ctx.partition ?? 'aws'}:cloudformation:${ctx.region ?? 'us-east-1'}:${ctx.accountId ?? '111111111111'}:stack/${ctx.stackName ?? 'test-stack'}/<stack id>`,
      ...defaults,
      ...(ctx.parameters ?? {}),
    };
    this.conditions = template.Conditions ?? {};
  }

  /** The evaluated properties of a resource (undefined if its Condition is false). */
  resource(logicalId: string): Json {
    const r = this.template.Resources[logicalId];
    if (!r) throw new Error(`no resource ${logicalId}`);
    if (r.Condition && !this.condition(r.Condition)) return undefined;
    return this.eval(r.Properties);
  }

  /** The AssertDescription of every Rules assertion that fails with these parameters. */
  failedAssertions(): string[] {
    return Object.values<Json>(this.template.Rules ?? {})
      .filter((rule) => rule.RuleCondition === undefined || this.eval(rule.RuleCondition))
      .flatMap((rule) => rule.Assertions.filter((a: Json) => !this.eval(a.Assert)).map((a: Json) => a.AssertDescription));
  }

  condition(name: string): boolean {
    if (!(name in this.conditions)) throw new Error(`no condition ${name}`);
    return Boolean(this.eval(this.conditions[name]));
  }

  eval(value: Json): Json {
    const out = this.evalInner(value);
    return out === NO_VALUE ? undefined : out;
  }

  private evalInner(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.evalInner(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = value[k];
      switch (k) {
        case 'Ref':
          if (arg === 'AWS::NoValue') return NO_VALUE;
          if (!(arg in this.params) && this.resourceRef && this.template.Resources?.[arg]) {
            return this.resourceRef(this.template.Resources[arg].Type, arg);
          }
          if (!(arg in this.params)) throw new Error(`Ref to unknown ${arg}`);
          return this.params[arg];
        case 'Condition':
          return this.condition(arg);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
          const resource = this.template.Resources?.[logicalId];
          if (!this.resourceRef || !resource) throw new Error(`Fn::GetAtt of unknown ${logicalId}`);
          return this.resourceRef(resource.Type, logicalId, attribute);
        }
        case 'Fn::If':
          return this.evalInner(this.condition(arg[0]) ? arg[1] : arg[2]);
        case 'Fn::Equals':
          return JSON.stringify(this.eval(arg[0])) === JSON.stringify(this.eval(arg[1]));
        case 'Fn::Not':
          return !this.eval(arg[0]);
        case 'Fn::And':
          return arg.every((a: Json) => this.eval(a));
        case 'Fn::Or':
          return arg.some((a: Json) => this.eval(a));
        case 'Fn::Contains': // a rule function: the list holds the value
          return [this.eval(arg[0])].flat().includes(this.eval(arg[1]));
        case 'Fn::Join': {
          const list = this.eval(arg[1]);
          return (Array.isArray(list) ? list : [list]).map((x: Json) => this.eval(x)).join(arg[0]);
        }
        case 'Fn::Sub': {
          const [text, vars] = typeof arg === 'string' ? [arg, {}] : [arg[0], arg[1]];
          return String(text).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (name in vars) return this.eval(vars[name]);
            if (!(name in this.params)) throw new Error(`Fn::Sub of unknown ${name}`);
            return String(this.params[name]);
          });
        }
        default:
          break;
      }
    }
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, this.evalInner(v)]).filter(([, v]) => v !== NO_VALUE),
    );
  }
}

/** One granted permission: effect, action, resource and conditions, as a comparable string. */
export function grants(policyDocuments: Json[]): string[] {
  const out = new Set<string>();
  for (const doc of policyDocuments) {
    for (const s of doc.Statement) {
      const actions = [s.Action].flat();
      const resources = [s.Resource].flat();
      const condition = s.Condition ? JSON.stringify(sortKeys(s.Condition)) : '';
      for (const a of actions) for (const r of resources) out.add(`${s.Effect} ${a} ${r} ${condition}`.trim());
    }
  }
  return [...out].sort();
}

/** The trust of a role as comparable strings (principal, action, conditions). */
export function trust(assumeRolePolicy: Json): string[] {
  return assumeRolePolicy.Statement.map((s: Json) =>
    `${s.Effect} ${JSON.stringify(s.Principal)} ${[s.Action].flat().join(',')} ${JSON.stringify(sortKeys(s.Condition ?? {}))}`).sort();
}

/** Everything a role grants: trust, managed policy ARNs, inline grants. */
export function roleGrants(roleProperties: Json) {
  return {
    trust: trust(roleProperties.AssumeRolePolicyDocument),
    managedPolicies: [...(roleProperties.ManagedPolicyArns ?? [])].sort(),
    inline: grants((roleProperties.Policies ?? []).map((p: Json) => p.PolicyDocument)),
    maxSessionDuration: roleProperties.MaxSessionDuration,
  };
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}
