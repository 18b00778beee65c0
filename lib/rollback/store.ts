/**
 * Rollback points in Blob storage: one JSON document per point under `points/`, updated with etag
 * compare-and-swap so two rollbacks of one point cannot both start. Also answers the dependency
 * question: which later, still active points touched the same resources.
 */
import { CodedError } from '../errors/codedError';
import { documentBlobName } from '../ids';
import { BlobConflictError, JsonBlobs } from '../storage/jsonBlobs';
import { RollbackPoint, RollbackStatus, resourceKey } from './types';

export type RollbackErrorCode =
  | 'ROLLBACK_POINT_NOT_FOUND'
  | 'ROLLBACK_POINT_NOT_ACTIVE'
  | 'ROLLBACK_POINT_EXPIRED'
  | 'ROLLBACK_DEPENDENCY'
  | 'ROLLBACK_CONFLICT'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_BUSY';

export class RollbackError extends CodedError<RollbackErrorCode> {
  override readonly name = 'RollbackError';
}

export interface PointFilter {
  status?: RollbackStatus[];
  /** Only points that touched this resource key (see resourceKey). */
  resource?: string;
}

/** Refuses an id that could name anything but a rollback point (InvalidIdError, INVALID_ID). */
const blobName = (id: string): string => documentBlobName('points', id, 'pointId');

export class RollbackPointStore {
  constructor(private readonly blobs: JsonBlobs) {}

  /** Records a point; recording the same id again (a re-run) keeps the first. */
  async create(point: RollbackPoint): Promise<RollbackPoint> {
    try {
      await this.blobs.put(blobName(point.id), point, { ifNoneMatch: '*' });
      return point;
    } catch (err) {
      if (err instanceof BlobConflictError) return (await this.get(point.id)) as RollbackPoint;
      throw err;
    }
  }

  async get(id: string): Promise<RollbackPoint | undefined> {
    return (await this.blobs.get<RollbackPoint>(blobName(id)))?.value;
  }

  async require(id: string): Promise<RollbackPoint> {
    const point = await this.get(id);
    if (!point) throw new RollbackError('ROLLBACK_POINT_NOT_FOUND', `No rollback point with id '${id}'.`);
    return point;
  }

  async list(filter: PointFilter = {}): Promise<RollbackPoint[]> {
    const names = await this.blobs.list('points/');
    const points: RollbackPoint[] = [];
    for (const name of names) {
      const stored = await this.blobs.get<RollbackPoint>(name);
      if (stored) points.push(stored.value);
    }
    return points
      .filter((p) => !filter.status?.length || filter.status.includes(p.status))
      .filter((p) => !filter.resource || p.resources.some((r) => resourceKey(r) === filter.resource))
      .sort((a, b) => (isLater(a, b) ? 1 : isLater(b, a) ? -1 : 0));
  }

  /**
   * Changes a point with a compare-and-swap; `from` lists the statuses it may have now, so two
   * callers racing to start a rollback cannot both win.
   */
  async transition(
    id: string,
    from: RollbackStatus[],
    change: (p: RollbackPoint) => RollbackPoint,
  ): Promise<RollbackPoint> {
    const stored = await this.blobs.get<RollbackPoint>(blobName(id));
    if (!stored) throw new RollbackError('ROLLBACK_POINT_NOT_FOUND', `No rollback point with id '${id}'.`);
    if (!from.includes(stored.value.status)) {
      const status = stored.value.status;
      throw new RollbackError(
        status === 'expired'
          ? 'ROLLBACK_POINT_EXPIRED'
          : status === 'rolling-back'
            ? 'ROLLBACK_IN_PROGRESS'
            : 'ROLLBACK_POINT_NOT_ACTIVE',
        `Rollback point '${id}' is ${status}.`,
      );
    }
    const next = change(structuredClone(stored.value));
    try {
      await this.blobs.put(blobName(id), next, { ifMatch: stored.etag });
    } catch (err) {
      if (err instanceof BlobConflictError) {
        throw new RollbackError(
          'ROLLBACK_BUSY',
          `Rollback point '${id}' changed while being updated; try again.`,
        );
      }
      throw err;
    }
    return next;
  }

  /**
   * Points created after `point` that touched any of its resources and whose change may still be in
   * place (active, or a rollback of it failed part-way), newest first.
   */
  async laterDependents(point: RollbackPoint): Promise<RollbackPoint[]> {
    const keys = new Set(point.resources.map(resourceKey));
    const active = await this.list({ status: ['active', 'rollback-failed'] });
    return active
      .filter((p) => p.id !== point.id && isLater(p, point))
      .filter((p) => p.resources.some((r) => keys.has(resourceKey(r))))
      .reverse();
  }

  /** Marks active points past their expiry as expired and returns them (snapshots are the caller's). */
  async expire(now: string): Promise<RollbackPoint[]> {
    const expired: RollbackPoint[] = [];
    for (const p of await this.list({ status: ['active'] })) {
      if (p.expiresAt > now) continue;
      try {
        expired.push(await this.transition(p.id, ['active'], (x) => ({ ...x, status: 'expired' })));
      } catch (err) {
        if (!(err instanceof RollbackError)) throw err;
      }
    }
    return expired;
  }
}

/**
 * Order of points: when the change finished (orchestration time), then when the point was
 * recorded (wall clock), so two changes in one orchestration tick still have an order.
 */
export function isLater(a: RollbackPoint, b: RollbackPoint): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  if ((a.recordedAt ?? '') !== (b.recordedAt ?? '')) return (a.recordedAt ?? '') > (b.recordedAt ?? '');
  return a.id > b.id;
}
