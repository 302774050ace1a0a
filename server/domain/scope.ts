/**
 * Whether a host lies inside an operator's scope (ADR 0020). A scope lists business-line
 * patterns and IDC names; an absent or empty list means "any". A business pattern is matched
 * against the host's inventory `business` ("product" or "product/module"):
 *   `pay`        the product pay: `pay` itself and every `pay/<module>`
 *   `pay/*`      every module of pay (not `pay` itself)
 *   `pay/api`    exactly that module
 * `*` matches any run of characters, as in inventory filters. A host without a business (or
 * IDC) is outside any scope that restricts business (or IDC).
 */
import type { Scope } from './roles.js';
import { isScoped } from './roles.js';
import { compileGlob } from './glob.js';

/** Patterns and IDC names: 1–100 characters of [A-Za-z0-9._/*-], at most 50 of each. */
export const scopeItem = /^[A-Za-z0-9._/*-]{1,100}$/;
export const maxScopeItems = 50;

export function businessMatches(pattern: string, business: string | undefined): boolean {
  if (business === undefined || business === '') return false;
  if (!pattern.includes('/') && !pattern.includes('*')) return business === pattern || business.startsWith(`${pattern}/`);
  return compileGlob(pattern)(business);
}

/** A compiled scope test over a host's business and IDC. */
export function scopeTest(scope: Scope | undefined): (h: { business?: string | undefined; idc?: string | undefined }) => boolean {
  if (!isScoped(scope)) return () => true;
  const business = scope!.business ?? [];
  const idc = new Set(scope!.idc ?? []);
  return (h) => (business.length === 0 || business.some((p) => businessMatches(p, h.business))) && (idc.size === 0 || (h.idc !== undefined && idc.has(h.idc)));
}

/** Validates and normalizes a scope from input; undefined when it restricts nothing. */
export function normalizeScope(input: { business?: readonly string[] | undefined; idc?: readonly string[] | undefined } | undefined): Scope | undefined {
  if (!input) return undefined;
  const out: { business?: string[]; idc?: string[] } = {};
  for (const key of ['business', 'idc'] as const) {
    const list = input[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > maxScopeItems) throw new Error(`scope.${key} must be a list of at most ${maxScopeItems} entries`);
    for (const item of list) if (typeof item !== 'string' || !scopeItem.test(item)) throw new Error(`scope.${key}: ${JSON.stringify(String(item).slice(0, 40))} is not a valid entry (1–100 characters of letters, digits, . _ / * -)`);
    const uniq = [...new Set(list as string[])];
    if (uniq.length > 0) out[key] = uniq;
  }
  return isScoped(out) ? out : undefined;
}

/** "business pay, pay/*; idc sz" for messages and pages. */
export function scopeText(scope: Scope | undefined): string {
  if (!isScoped(scope)) return 'all hosts';
  const parts: string[] = [];
  if (scope!.business?.length) parts.push(`business ${scope!.business.join(', ')}`);
  if (scope!.idc?.length) parts.push(`idc ${scope!.idc.join(', ')}`);
  return parts.join('; ');
}

/** May make changes that reach the whole fleet: an admin, or an operator without a scope. */
export function canChangeFleet(role: string, scope: Scope | undefined): boolean {
  return role === 'admin' || (role === 'operator' && !isScoped(scope));
}
