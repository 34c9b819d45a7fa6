import { StrataError } from './errors.js';

/** What a role may do, from the plan's access controls. `read` includes `read_summary`. */
export type Permission = 'read' | 'read_summary' | 'write' | 'delete' | 'export';

export const ACCESS_ROLES = ['admin', 'analyst', 'developer', 'viewer'] as const;
export type AccessRole = (typeof ACCESS_ROLES)[number];

/** The plan's role table: admin read/write/delete/export, analyst read/export, developer read, viewer summaries only. */
export const ROLE_PERMISSIONS: Readonly<Record<AccessRole, readonly Permission[]>> = {
  admin: ['read', 'read_summary', 'write', 'delete', 'export'],
  analyst: ['read', 'read_summary', 'export'],
  developer: ['read', 'read_summary'],
  viewer: ['read_summary'],
};

/**
 * Every guarded path of the API and the CLI, with the permissions it needs (all of them).
 * Summaries are aggregates (insights, report, status); `read` is raw interactions.
 */
export const OPERATION_PERMISSIONS = {
  'insights.read': ['read_summary'],
  'report.read': ['read_summary'],
  'status.read': ['read_summary'],
  'interactions.read': ['read'],
  'interactions.write': ['write'],
  'interactions.delete': ['delete'],
  'subject.erase': ['delete'],
  'export.summaries': ['read_summary', 'export'],
  'export.interactions': ['read', 'export'],
  'jobs.run': ['write', 'delete'],
  'backup.create': ['read', 'export'],
  'backup.restore': ['write', 'delete'],
  'alerts.read': ['read_summary'],
  'alerts.silence': ['write'],
} as const satisfies Record<string, readonly Permission[]>;

export type Operation = keyof typeof OPERATION_PERMISSIONS;
export const OPERATIONS = Object.keys(OPERATION_PERMISSIONS) as Operation[];

/** Who is asking. `name` is what the audit log records (a user, a token's label, `cli:alice`). */
export interface Principal {
  name: string;
  role: AccessRole;
}

export function isAccessRole(value: unknown): value is AccessRole {
  return typeof value === 'string' && (ACCESS_ROLES as readonly string[]).includes(value);
}

/** The permissions `role` lacks for `operation`; empty when it is allowed. */
export function missingPermissions(role: AccessRole, operation: Operation): Permission[] {
  const granted = ROLE_PERMISSIONS[role];
  return OPERATION_PERMISSIONS[operation].filter((permission) => !granted.includes(permission));
}

/** A principal tried something its role does not allow. */
export class AccessDeniedError extends StrataError {
  readonly principal: Principal;
  readonly operation: Operation;
  readonly missing: readonly Permission[];

  constructor(principal: Principal, operation: Operation, missing: readonly Permission[]) {
    const allowedRoles = ACCESS_ROLES.filter((role) => missingPermissions(role, operation).length === 0);
    super(
      'STRATA_ACCESS_DENIED',
      `access denied: ${principal.name} (role ${principal.role}) lacks the ${missing.map((permission) => `"${permission}"`).join(' and ')} permission needed for ${operation}; roles allowed: ${allowedRoles.join(', ')}`,
    );
    this.principal = principal;
    this.operation = operation;
    this.missing = missing;
  }
}
