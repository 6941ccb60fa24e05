import { errorGuard, mephErrorBase } from '@meph/errors';

/** Base of every @meph/simplestreams error; `isSimplestreamsError` is true for these and no other library's. */
export abstract class SimplestreamsError extends mephErrorBase('@meph/simplestreams') {}
export const isSimplestreamsError = errorGuard(SimplestreamsError);

/** A document is over a reader's limit (size, nesting) or is not something a document can be. */
export class DocumentLimitError extends SimplestreamsError {
  override readonly name = 'DocumentLimitError';
  constructor(readonly source: string, readonly detail: string, hint?: string) {
    super(`${source}: ${detail}`, hint ? { hint } : undefined);
  }
}

/**
 * A document holds a value meph cannot write back exactly (a number beyond what a JavaScript
 * number holds, invalid UTF-8): refused rather than silently rewritten.
 */
export class UnrepresentableValueError extends SimplestreamsError {
  override readonly name = 'UnrepresentableValueError';
  constructor(readonly source: string, readonly jsonPath: string, readonly detail: string) {
    super(`${source}: ${jsonPath}: ${detail}; refusing to read it rather than change it`, { hint: 'fix the value where the document is produced' });
  }
}

/** A document is not valid JSON. `line`/`column` locate the problem when known. */
export class ParseError extends SimplestreamsError {
  override readonly name = 'ParseError';
  constructor(readonly source: string, readonly detail: string, readonly line?: number, readonly column?: number) {
    super(`${source}${line !== undefined ? `:${line}${column !== undefined ? `:${column}` : ''}` : ''}: invalid JSON: ${detail}`);
  }
}

/** Valid JSON but not a simplestreams document of the expected kind/version. */
export class FormatError extends SimplestreamsError {
  override readonly name = 'FormatError';
  constructor(readonly source: string, readonly detail: string, hint?: string) {
    super(`${source}: ${detail}`, hint ? { hint } : undefined);
  }
}

export class MissingFileError extends SimplestreamsError {
  override readonly name = 'MissingFileError';
  constructor(readonly source: string, readonly referencedBy?: string, hint?: string) {
    super(`${source}: no such file${referencedBy ? ` (referenced by ${referencedBy})` : ''}`, hint ? { hint } : undefined);
  }
}

/** A command-line stream location cannot be used the way the command needs it (e.g. a URL as a write target). */
export class StreamLocationError extends SimplestreamsError {
  override readonly name = 'StreamLocationError';
  constructor(readonly location: string, detail: string, hint?: string) {
    super(`${location}: ${detail}`, hint ? { hint } : undefined);
  }
}

export class HttpError extends SimplestreamsError {
  override readonly name = 'HttpError';
  constructor(readonly url: string, readonly status: number, readonly statusText = '', readonly referencedBy?: string) {
    super(`${url}: HTTP ${status}${statusText ? ` ${statusText}` : ''}${referencedBy ? ` (referenced by ${referencedBy})` : ''}`);
  }
}

/** A path from metadata or an archive that could escape its root. */
export class UnsafePathError extends SimplestreamsError {
  override readonly name = 'UnsafePathError';
  constructor(readonly path: string, readonly reason: string, readonly source?: string) {
    super(`${source ? `${source}: ` : ''}refusing unsafe path ${JSON.stringify(path)}: ${reason}`);
  }
}

// One class for both, shared with the HTTP transport that verifies downloads.
export { ChecksumMismatchError, SizeMismatchError } from '@meph/http';

/**
 * A document cannot be used without a signature check that cannot happen: it is unsigned
 * where signatures are required, or it is signed and no keyring is there to check it.
 */
export class SignatureRequiredError extends SimplestreamsError {
  override readonly name = 'SignatureRequiredError';
  constructor(
    readonly source: string,
    detail = 'is not signed, and signatures are required',
    hint = 'give a keyring with --keyring, or pass --no-verify to read it unverified',
  ) {
    super(`${source}: ${detail}`, { hint });
  }
}

export class FilterSyntaxError extends SimplestreamsError {
  override readonly name = 'FilterSyntaxError';
  constructor(readonly filter: string, detail: string) {
    super(`invalid filter ${JSON.stringify(filter)}: ${detail}`, { hint: 'filters look like key=value, key!=value, key~regex or key!~regex' });
  }
}

/** Another process holds the stream's write lock. */
export class LockedError extends SimplestreamsError {
  override readonly name = 'LockedError';
  constructor(readonly dir: string, readonly holderPid: number | undefined) {
    super(`${dir} is locked by another writer${holderPid ? ` (pid ${holderPid})` : ''}`, { hint: 'wait for it to finish, or remove the stale lock file if that process is gone' });
  }
}

/** The server could not be reached at all (DNS, refused connection, TLS, reset). */
export class NetworkError extends SimplestreamsError {
  override readonly name = 'NetworkError';
  constructor(readonly url: string, detail: string, cause?: unknown) {
    super(`${url}: cannot fetch: ${detail}`, { cause, hint: 'check the URL and that the server is reachable' });
  }
}

/** An `_aliases` table has no entry for a value that refers to it. */
export class AliasError extends SimplestreamsError {
  override readonly name = 'AliasError';
  constructor(readonly source: string, readonly field: string, readonly value: string) {
    super(`${source}: _aliases.${field} has no entry for ${JSON.stringify(value)}`);
  }
}

/** A `%(key)s` output format names a field the record does not have. */
export class OutputFormatError extends SimplestreamsError {
  override readonly name = 'OutputFormatError';
  constructor(readonly format: string, detail: string) {
    super(`invalid output format ${JSON.stringify(format)}: ${detail}`, { hint: 'use Python %-style fields such as "%(product_name)s %(item_url)s"' });
  }
}

/** Mirror options that cannot be used as given (a count that is not a whole number, --keep without --max): exit status 2. */
export class MirrorOptionError extends SimplestreamsError {
  override readonly name = 'MirrorOptionError';
  constructor(detail: string, hint?: string) {
    super(detail, { exitCode: 2, ...(hint ? { hint } : {}) });
  }
}
