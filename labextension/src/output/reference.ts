/**
 * The reference a cell output renders: which process of which registry, not
 * its state (the live state comes from the kernel or the server extension).
 */
/**
 * The MIME type of the inline process output (a reference, not the state).
 */
export const PROCESS_MIME_TYPE = 'application/vnd.syft-pm.process+json';

/**
 * The data of a `application/vnd.syft-pm.process+json` bundle.
 */
export interface IProcessReference {
  /**
   * Version of the reference format.
   */
  version: number;
  /**
   * The id of the registry (one per `SYFT_PM_HOME`).
   */
  registry_id: string;
  /**
   * The process name, unique in its registry.
   */
  name: string;
  /**
   * The registry directory on the host of the kernel.
   */
  home: string;
}

/**
 * The reference format versions this frontend understands.
 */
export const SUPPORTED_REFERENCE_VERSIONS: readonly number[] = [1];

/**
 * The outcome of reading a process reference out of a MIME bundle.
 */
export type ParseResult<T> =
  { ok: true; value: T } | { ok: false; error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validate the data of a `application/vnd.syft-pm.process+json` bundle.
 *
 * Never throws: a malformed bundle (an older or newer syft_pm, a hand-made
 * output) yields an error the renderer can show.
 */
export function parseProcessReference(
  data: unknown
): ParseResult<IProcessReference> {
  if (!isRecord(data)) {
    return { ok: false, error: `${PROCESS_MIME_TYPE} data is not an object` };
  }
  const { version, registry_id, name, home } = data;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return { ok: false, error: 'missing or invalid "version"' };
  }
  if (!SUPPORTED_REFERENCE_VERSIONS.includes(version)) {
    return {
      ok: false,
      error: `unsupported reference version ${version} (this extension understands ${SUPPORTED_REFERENCE_VERSIONS.join(', ')})`
    };
  }
  if (typeof name !== 'string' || name.length === 0) {
    return { ok: false, error: 'missing or invalid "name"' };
  }
  if (typeof registry_id !== 'string' || registry_id.length === 0) {
    return { ok: false, error: 'missing or invalid "registry_id"' };
  }
  if (typeof home !== 'string') {
    return { ok: false, error: 'missing or invalid "home"' };
  }
  return { ok: true, value: { version, registry_id, name, home } };
}
