/**
 * Tagged errors: every failure Vigil reports is a value with a `_tag`, a human reason and
 * the original cause, so a boundary (HTTP, CLI) can map it without parsing strings.
 */
export abstract class VigilError extends Error {
  abstract readonly _tag: string;
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
  override get name(): string {
    return this._tag;
  }
}

/** Configuration could not be parsed or validated; `problems` lists every one found. */
export class ConfigError extends VigilError {
  readonly _tag = 'ConfigError';
  constructor(
    reason: string,
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(problems.length ? `${reason}:\n  - ${problems.join('\n  - ')}` : reason, options);
  }
}

/** Input bytes could not be decoded into records. */
export class DecodeError extends VigilError {
  readonly _tag = 'DecodeError';
}

/** A storage operation failed; carries the statement and parameters that failed. */
export class StoreError extends VigilError {
  readonly _tag = 'StoreError';
  constructor(
    reason: string,
    readonly query?: string,
    readonly params?: readonly unknown[],
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

/** A bounded queue refused work: the caller must slow down (HTTP 429/503, pause a socket). */
export class BackpressureError extends VigilError {
  readonly _tag = 'BackpressureError';
  constructor(
    reason: string,
    readonly retryAfterMs: number,
  ) {
    super(reason);
  }
}

/** Something asked for does not exist. */
export class NotFoundError extends VigilError {
  readonly _tag = 'NotFoundError';
}

/**
 * A scale-out write was refused by the fence (Store.writeGroup): the partition's stored position
 * has a newer lease epoch (the writer lost its lease) or already covers the span (a replay).
 */
export class StaleWriterError extends VigilError {
  readonly _tag = 'StaleWriterError';
  constructor(
    reason: string,
    readonly partition: number,
  ) {
    super(reason);
  }
}
