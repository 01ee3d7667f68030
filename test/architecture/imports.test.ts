import { describe, expect, it } from 'vitest';
import { cycles, importGraph } from './imports.js';

/**
 * The layers of src/, lowest first. A module may import its own layer and those below it, never one above:
 * backends implement ports declared in core, and only the composition roots (server/) see everything.
 */
const LAYERS: readonly string[][] = [
  ['core'],
  ['store', 'bus', 'sandbox', 'runtimes'],
  ['scheduler', 'invoker'],
  ['controller'],
  ['events'],
  ['catalog'],
  ['server'],
  ['cli'],
];
const layerOf = (module: string): number => {
  const top = module.split('/')[0]!;
  const i = LAYERS.findIndex((names) => names.includes(top));
  if (i < 0) throw new Error(`src/${top}/ is in no layer: add it to LAYERS in ${import.meta.filename}`);
  return i;
};

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('has no cycles', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });

  it('only imports downwards (or within a layer)', () => {
    const upward: string[] = [];
    for (const [module, targets] of graph) {
      for (const target of targets) {
        if (layerOf(target) > layerOf(module)) upward.push(`${module} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps backends apart: no backend imports another of its kind', () => {
    const backends = ['store', 'bus', 'sandbox'];
    const across: string[] = [];
    for (const [module, targets] of graph) {
      const [top, impl] = module.split('/');
      if (!backends.includes(top!) || impl === undefined || impl.endsWith('.ts')) continue;
      for (const target of targets) {
        const [tTop, tImpl] = target.split('/');
        if (tTop === top && tImpl !== impl && !tImpl!.endsWith('.ts')) across.push(`${module} -> ${target}`);
      }
    }
    expect(across).toEqual([]);
  });
});
