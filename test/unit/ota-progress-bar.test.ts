import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../sdk/cli/ota/progress-bar.js';

function sink(isTTY: boolean): { out: { write(text: string): void; isTTY: boolean }; text(): string } {
  let text = '';
  return { out: { write: (t: string) => void (text += t), isTTY }, text: () => text };
}

describe('ProgressBar', () => {
  it('renders a bar with percentage and MiB', () => {
    const bar = new ProgressBar(sink(false).out, 'downloading', 10);
    expect(bar.render(0, 4 * 1024 * 1024)).toBe('downloading [··········]   0%  0.0/4.0 MiB');
    expect(bar.render(1024 * 1024, 4 * 1024 * 1024)).toBe('downloading [###·······]  25%  1.0/4.0 MiB');
    expect(bar.render(5, 0)).toBe('downloading [##########] 100%  0.0/0.0 MiB');
  });

  it('redraws in place on a terminal and ends the line once', () => {
    const s = sink(true);
    const bar = new ProgressBar(s.out, 'dl', 4);
    bar.update(1, 2);
    bar.update(2, 2);
    bar.done();
    bar.done();
    expect(s.text()).toBe('\rdl [##··]  50%  0.0/0.0 MiB\rdl [####] 100%  0.0/0.0 MiB\n');
  });

  it('prints one line per 10 % when not on a terminal', () => {
    const s = sink(false);
    const bar = new ProgressBar(s.out, 'dl', 4);
    for (let i = 0; i <= 100; i++) bar.update(i, 100);
    expect(s.text().trimEnd().split('\n')).toHaveLength(11);
  });
});
