import { RecipientFrequency } from '../metrics/recipient-frequency.js';
import type { SenderSeries } from '../metrics/counter-store.js';
import type { SendFrequencyOptions } from './types.js';
import { describe, rejectUnknownOptions } from './options.js';

/** The opt-in send-frequency estimate: its options, checked at construction, and one sample per (provider, app). */

export interface SendFrequencySettings {
  readonly cap: number;
  readonly sampleSize: number;
}

export const DEFAULT_SEND_CAP = 5;
export const DEFAULT_SAMPLE_SIZE = 4096;
const MIN_SAMPLE = 256;
const MAX_SAMPLE = 1 << 20;

export function checkSendFrequency(options: unknown): SendFrequencySettings | undefined {
  if (options === undefined || options === false) return undefined;
  if (options === true) return { cap: DEFAULT_SEND_CAP, sampleSize: DEFAULT_SAMPLE_SIZE };
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options.sendFrequency must be { cap?, sampleSize? }, true or false, got ${describe(options)}`);
  }
  rejectUnknownOptions(options, ['cap', 'sampleSize'], 'options.sendFrequency');
  const { cap = DEFAULT_SEND_CAP, sampleSize = DEFAULT_SAMPLE_SIZE } = options as SendFrequencyOptions;
  if (!Number.isInteger(cap) || cap < 1 || cap > 1000) {
    throw new TypeError(
      `options.sendFrequency.cap must be a whole number of pushes per recipient per 24 h from 1 to 1000, got ${describe(cap)}`,
    );
  }
  if (!Number.isInteger(sampleSize) || sampleSize < MIN_SAMPLE || sampleSize > MAX_SAMPLE) {
    throw new TypeError(
      `options.sendFrequency.sampleSize must be a whole number of recipients from ${MIN_SAMPLE} to ${MAX_SAMPLE}, got ${describe(sampleSize)}`,
    );
  }
  return { cap, sampleSize };
}

/**
 * The sample of a (provider, app), created by the first instance that tracks it; instances sharing a registry share
 * it, so they must agree on its settings.
 */
export function frequencyOf(sender: SenderSeries, settings: SendFrequencySettings): RecipientFrequency {
  const existing = sender.frequency;
  if (existing === undefined) return (sender.frequency = new RecipientFrequency(settings.sampleSize, settings.cap));
  if (existing.cap !== settings.cap || existing.capacity !== settings.sampleSize) {
    throw new TypeError(
      `options.sendFrequency: ${sender.provider}${sender.app === undefined ? '' : ` (${sender.app})`} is already tracked on this registry with cap ${existing.cap} and sampleSize ${existing.capacity}; PushTelemetry instances sharing a registry must use the same sendFrequency`,
    );
  }
  return existing;
}
