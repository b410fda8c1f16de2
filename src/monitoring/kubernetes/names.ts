import { describe } from '../../core/options.js';

/**
 * Kubernetes' own rules for names, labels and keys, checked when the manifests are built: a bad value is a TypeError
 * naming the option, not a rejection from the API server (or worse, an object no selector ever matches).
 */

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?=.{0,63}$)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
// IANA service name: what a Service or container port's `name` may be, so what a monitor's `port` can refer to.
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

export function objectName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !DNS_SUBDOMAIN.test(value))
    throw new TypeError(
      `${option} must be a Kubernetes object name (lowercase letters, digits, - and ., at most 253), got ${describe(value)}`,
    );
  return value;
}

export function namespaceName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !DNS_LABEL.test(value))
    throw new TypeError(
      `${option} must be a Kubernetes namespace name (lowercase letters, digits and -, at most 63), got ${describe(value)}`,
    );
  return value;
}

export function portName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !PORT_NAME.test(value))
    throw new TypeError(
      `${option} must be the name of a Service or container port (lowercase letters, digits and -, at most 15), got ${describe(value)}`,
    );
  return value;
}

export function secretKey(value: unknown, option: string): string {
  if (typeof value !== 'string' || !SECRET_KEY.test(value))
    throw new TypeError(`${option} must be a Secret key (letters, digits, -, _ and .), got ${describe(value)}`);
  return value;
}

/** Label (or annotation, with `values: 'any'`) maps: keys are qualified names, label values at most 63 characters. */
export function labelMap(
  value: unknown,
  option: string,
  values: 'label' | 'any' = 'label',
): Readonly<Record<string, string>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${option} must be an object of label names to values, got ${describe(value)}`);
  for (const [key, item] of Object.entries(value)) {
    if (!QUALIFIED_NAME.test(key))
      throw new TypeError(`${option}: "${key}" is not a Kubernetes label name (like app.kubernetes.io/name)`);
    if (typeof item !== 'string' || (values === 'label' && !LABEL_VALUE.test(item)))
      throw new TypeError(
        `${option}.${key} must be a ${values === 'label' ? 'label value (letters, digits, -, _ and ., at most 63)' : 'string'}, got ${describe(item)}`,
      );
  }
  return { ...(value as Record<string, string>) };
}

export function annotationKey(value: unknown, option: string): string {
  if (typeof value !== 'string' || !QUALIFIED_NAME.test(value))
    throw new TypeError(`${option} must be an annotation name (like grafana_folder), got ${describe(value)}`);
  return value;
}
