/**
 * The `$skiptoken` of `@odata.nextLink`: a paging cookie in Dataverse's layout (`<cookie
 * pagenumber="2" pagingcookie="…" istracking="False" />`). Clients must treat it as opaque; the
 * simulator only reads the page number back. A token it did not write is refused, never guessed at.
 */
import { uriError } from '../errors';

export function makeSkipToken(
  pageNumber: number,
  previousPage: number,
  firstId: string,
  lastId: string,
  idColumn: string,
): string {
  const inner = `<cookie page="${previousPage}"><${idColumn} last="{${lastId.toUpperCase()}}" first="{${firstId.toUpperCase()}}" /></cookie>`;
  const paging = encodeURIComponent(encodeURIComponent(inner));
  return `<cookie pagenumber="${pageNumber}" pagingcookie="${paging}" istracking="False" />`;
}

export function readSkipToken(token: string): number {
  const match = /^<cookie pagenumber="(\d+)"/.exec(token.trim());
  const page = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(page) || page < 1) throw uriError(`The $skiptoken '${token}' is not valid.`);
  return page;
}
