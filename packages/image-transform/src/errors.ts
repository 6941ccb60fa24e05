/** Brand shared by every meph library error (Symbol.for, so it works across copies/realms). */
export const MEPH_ERROR: unique symbol = Symbol.for('meph.error') as never;

export abstract class ImageTransformError extends Error {
  readonly [MEPH_ERROR] = true as const;
  abstract override readonly name: string;
  readonly hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.hint) this.hint = options.hint;
  }
}

/** A config file is invalid: names the file, line and key. */
export class ConfigError extends ImageTransformError {
  override readonly name = 'ConfigError';
  constructor(readonly file: string, readonly detail: string, readonly line?: number, readonly key?: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${detail}`);
  }
}
