/*
 * Copied from @opentelemetry/semantic-conventions (1.45.0), as its README asks libraries to do for conventions
 * that are not yet stable, so a semconv release cannot change our span or metric shape underneath users. Only
 * `error.type` is stable; it is copied too so that this file is the one place naming what we emit.
 */

/** Stable. Describes a class of error the operation ended with. */
export const ATTR_ERROR_TYPE = 'error.type' as const;

/** Development. The messaging system as identified by the client instrumentation (1.45: renamed from messaging.system). */
export const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name' as const;
/**
 * Deprecated in 1.45 for `messaging.system.name`; still emitted beside it until the messaging conventions are stable,
 * so queries and backends written against the older name keep working.
 */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system' as const;
/** Development. The system-specific name of the messaging operation. */
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name' as const;
/** Development. A string identifying the type of the messaging operation. */
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type' as const;
/** Development. The number of messages sent, received, or processed in the scope of the batching operation. */
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count' as const;
/** Development. A value used by the messaging system as an identifier for the message. */
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id' as const;

/** Enum value "send" for ATTR_MESSAGING_OPERATION_TYPE. */
export const MESSAGING_OPERATION_TYPE_VALUE_SEND = 'send' as const;
/** Enum value "aws.sns" for ATTR_MESSAGING_SYSTEM_NAME (and the deprecated ATTR_MESSAGING_SYSTEM). */
export const MESSAGING_SYSTEM_VALUE_AWS_SNS = 'aws.sns' as const;

/** Development. Counter, unit `{message}`: number of messages producer attempted to send to the broker. */
export const METRIC_MESSAGING_CLIENT_SENT_MESSAGES = 'messaging.client.sent.messages' as const;
/** Development. Histogram, unit `s`: duration of messaging operation initiated by a producer or consumer client. */
export const METRIC_MESSAGING_CLIENT_OPERATION_DURATION = 'messaging.client.operation.duration' as const;
