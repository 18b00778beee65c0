import { describe, expect, it } from 'vitest';
import { HOST_NODE_ARGUMENTS, missingHostArguments } from '../../host/nodeArguments';

describe('the host process Node arguments', () => {
  it('are missing when neither the arguments nor NODE_OPTIONS carry them', () => {
    expect(missingHostArguments([], '')).toEqual([...HOST_NODE_ARGUMENTS]);
    expect(missingHostArguments(['--enable-source-maps'], '--max-old-space-size=512')).toEqual([
      ...HOST_NODE_ARGUMENTS,
    ]);
  });

  it('count as given in either place, with any value the user chose', () => {
    expect(missingHostArguments([...HOST_NODE_ARGUMENTS], '')).toEqual([]);
    expect(missingHostArguments([], `--inspect ${HOST_NODE_ARGUMENTS.join(' ')}`)).toEqual([]);
    const names = HOST_NODE_ARGUMENTS.map((a) => `${a.split('=')[0]}=64`);
    expect(missingHostArguments(names, '')).toEqual([]);
  });
});
