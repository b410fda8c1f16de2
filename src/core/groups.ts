import { GROUP_PATTERN, MAX_GROUPS, OTHER_GROUP } from '../metrics/contract.js';
import type { OperationSeries, SeriesStore } from '../metrics/counter-store.js';
import { checkLabelValue, describe } from './options.js';

/** The opt-in `group` label: the declared values, checked once, and each wrapped sender's series per group. */

/** Checks `options.groups`; undefined when none are declared (no group label at all). */
export function checkGroups(groups: unknown): readonly string[] | undefined {
  if (groups === undefined) return undefined;
  if (!Array.isArray(groups) || groups.length === 0 || groups.length > MAX_GROUPS) {
    throw new TypeError(
      `options.groups must be an array of 1 to ${MAX_GROUPS} group names (each value is a label value of push_messages_total), got ${Array.isArray(groups) ? `${groups.length} names` : describe(groups)}`,
    );
  }
  const seen = new Set<string>();
  groups.forEach((group: unknown, i) => {
    const name = checkLabelValue(group, GROUP_PATTERN, `options.groups[${i}]`, 'a group name such as "marketing"');
    if (name === OTHER_GROUP)
      throw new TypeError(`options.groups[${i}]: "${OTHER_GROUP}" is implied (it counts every undeclared value)`);
    if (seen.has(name)) throw new TypeError(`options.groups[${i}]: "${name}" is declared twice`);
    seen.add(name);
  });
  return Object.freeze([...seen]);
}

/** A sender's series per group, preallocated so a call only looks its group up. */
export interface GroupSeries {
  readonly byName: ReadonlyMap<string, OperationSeries>;
  readonly other: OperationSeries;
}

/** What a wrapped sender's `group` option resolves to: one fixed series, or a per-call hook and its series. */
export type ResolvedGroup =
  | { readonly fixed: OperationSeries }
  | { readonly hook: (args: readonly unknown[]) => unknown; readonly series: GroupSeries };

export function resolveGroup(
  option: unknown,
  declared: readonly string[] | undefined,
  store: SeriesStore,
  provider: string,
  app: string | undefined,
  operation: string,
): ResolvedGroup | undefined {
  if (option === undefined) return undefined;
  if (declared === undefined) {
    throw new TypeError(
      'options.group needs the group names declared first: new PushTelemetry({ groups: [...] }) (the label values must be bounded)',
    );
  }
  if (typeof option === 'string') {
    if (!declared.includes(option) && option !== OTHER_GROUP) {
      throw new TypeError(
        `options.group must be one of the declared groups (${declared.join(', ')}) or a function returning one, got ${describe(option)}`,
      );
    }
    return { fixed: store.operation(provider, app, operation, option) };
  }
  if (typeof option !== 'function') {
    throw new TypeError(
      `options.group must be a group name or a function of the call's arguments, got ${describe(option)}`,
    );
  }
  const byName = new Map(declared.map((name) => [name, store.operation(provider, app, operation, name)] as const));
  return {
    hook: option as (args: readonly unknown[]) => unknown,
    series: { byName, other: store.operation(provider, app, operation, OTHER_GROUP) },
  };
}
