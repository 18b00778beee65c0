/**
 * Rollback points' dependencies as an SVG graph. A later point that touched the same records as an
 * earlier one depends on it: the earlier one cannot be rolled back alone while the later one is
 * active. Points sit in columns by depth of dependency (independent points in the first column);
 * each arrow runs from the later point to the point it depends on.
 */
import { svg } from './dom.js';
import type { RollbackPointListed } from './types.js';

/** Nodes are as wide as their longest id needs, within these bounds (px). */
const NODE_MIN_W = 190;
const NODE_MAX_W = 380;
/** Roughly the width of one character of the node's 11–12px text. */
const CHAR_W = 6.6;
const NODE_H = 46;
const COL_GAP = 80;
const ROW_GAP = 18;
const PAD = 12;

interface Placed {
  point: RollbackPointListed;
  x: number;
  y: number;
}

/** Column = 1 + the deepest column among the points it depends on (points come oldest first). */
function layout(points: RollbackPointListed[], nodeW: number): Map<string, Placed> {
  const column = new Map<string, number>();
  const rows: number[] = [];
  const placed = new Map<string, Placed>();
  for (const point of points) {
    const deps = (point.dependsOn ?? []).filter((d) => column.has(d));
    const col = deps.length ? Math.max(...deps.map((d) => column.get(d)!)) + 1 : 0;
    column.set(point.id, col);
    const row = rows[col] ?? 0;
    rows[col] = row + 1;
    placed.set(point.id, {
      point,
      x: PAD + col * (nodeW + COL_GAP),
      y: PAD + row * (NODE_H + ROW_GAP),
    });
  }
  return placed;
}

/** Shortened at the end: for descriptions. */
function label(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Shortened in the middle, keeping the end: ids of one deployment differ only at their end
 * (`…:config`, `…:dataverse`), so cutting the end would make them read the same.
 */
function middle(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.floor((max - 1) / 2);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}

const metaOf = (p: RollbackPointListed): string => `${p.id} · ${p.status}`;

export function dependencyGraph(points: RollbackPointListed[], open: (id: string) => void): SVGSVGElement {
  const longest = Math.max(...points.map((p) => metaOf(p).length), 0);
  const nodeW = Math.min(NODE_MAX_W, Math.max(NODE_MIN_W, Math.ceil(longest * CHAR_W) + 20));
  const chars = Math.floor((nodeW - 20) / CHAR_W);
  const placed = layout(points, nodeW);
  const nodes = [...placed.values()];
  const width = Math.max(...nodes.map((n) => n.x + nodeW), 200) + PAD;
  const height = Math.max(...nodes.map((n) => n.y + NODE_H), NODE_H) + PAD;

  const edges = nodes.flatMap(({ point, x, y }) =>
    (point.dependsOn ?? [])
      .filter((dep) => placed.has(dep))
      .map((dep) => {
        const to = placed.get(dep)!;
        const [x1, y1, x2, y2] = [x, y + NODE_H / 2, to.x + nodeW, to.y + NODE_H / 2];
        const bend = (x1 - x2) / 2;
        return svg(
          'path',
          {
            class: 'edge',
            d: `M ${x1} ${y1} C ${x1 - bend} ${y1}, ${x2 + bend} ${y2}, ${x2 + 6} ${y2}`,
            'marker-end': 'url(#arrow)',
            'data-testid': 'graph-edge',
            'data-from': point.id,
            'data-to': dep,
          },
          svg('title', {}, `${point.id} depends on ${dep}`),
        );
      }),
  );

  const drawn = nodes.map(({ point, x, y }) =>
    svg(
      'g',
      {
        class: `node status-${point.status}`,
        transform: `translate(${x} ${y})`,
        role: 'link',
        tabindex: 0,
        'aria-label': `Rollback point ${point.id}, ${point.status}: ${point.description}`,
        'data-testid': 'graph-node',
        'data-point-id': point.id,
        onclick: () => open(point.id),
        onkeydown: (e: Event) => {
          if ((e as KeyboardEvent).key === 'Enter') open(point.id);
        },
      },
      svg('title', {}, `${point.id} (${point.status}): ${point.description}`),
      svg('rect', { width: nodeW, height: NODE_H, rx: 6 }),
      svg('text', { x: 10, y: 19, class: 'node-title' }, label(point.description || point.id, chars - 4)),
      svg(
        'text',
        { x: 10, y: 36, class: 'node-meta', 'data-testid': 'graph-node-id' },
        `${middle(point.id, chars - point.status.length - 3)} · ${point.status}`,
      ),
    ),
  );

  return svg(
    'svg',
    {
      class: 'graph',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'group',
      'aria-label': 'Dependencies between rollback points',
      'data-testid': 'dependency-graph',
    },
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto',
        },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }),
      ),
    ),
    edges,
    drawn,
  );
}
