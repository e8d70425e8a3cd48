import { describe, expect, it } from 'vitest';
import type { SimItem } from './events.js';
import { runSimulation } from './run.js';
import type { ScenarioLabel } from './scenarios.js';
import { FleetSimulator } from './simulator.js';

describe('runSimulation', () => {
  it('hands every record over in batches, waiting for the sink before making more', async () => {
    const items: SimItem[] = [];
    const labels: ScenarioLabel[] = [];
    let inFlight = 0;
    let batches = 0;
    const summary = await runSimulation(
      { vehicles: 40, seed: 2, attackEveryS: 30 },
      {
        async write(batch) {
          expect(inFlight).toBe(0); // never called again before the previous write settled
          inFlight++;
          batches++;
          expect(batch.filter((x) => x.kind === 'signals').length).toBeLessThanOrEqual(16);
          await new Promise((r) => setTimeout(r, 0));
          items.push(...batch);
          inFlight--;
        },
        labels: (l) => void labels.push(...l),
      },
      { durationS: 90, batchMessages: 16 },
    );
    expect(summary.aborted).toBe(false);
    expect(summary.vehicles).toBe(40);
    expect(summary.end).toBe(summary.start + 90_000);
    expect(summary.messages).toBe(items.filter((x) => x.kind === 'signals').length);
    expect(summary.securityEvents + summary.logEvents + summary.messages).toBe(items.length);
    expect(summary.labels).toBe(labels.length);
    expect(batches).toBeGreaterThan(200);
    expect(labels.filter((l) => l.scenario !== 'malformed').length).toBe(3);

    // The same records as driving the simulator by hand.
    const sim = new FleetSimulator({ vehicles: 40, seed: 2, attackEveryS: 30 });
    const direct = [...sim.items(sim.options.start + 90_000)];
    expect(items.map((x) => x.payload).sort()).toEqual(direct.map((x) => x.payload).sort());
  });

  it('stops after the current batch when aborted, and paces ticks through the hook', async () => {
    const ac = new AbortController();
    const paced: number[] = [];
    let written = 0;
    const summary = await runSimulation(
      { vehicles: 10, seed: 2 },
      {
        write(batch) {
          written += batch.length;
        },
      },
      {
        durationS: 3600,
        tickMs: 500,
        signal: ac.signal,
        pace: (t) => {
          paced.push(t);
          if (paced.length === 20) ac.abort();
        },
      },
    );
    expect(summary.aborted).toBe(true);
    expect(paced).toHaveLength(20);
    expect(paced[1]! - paced[0]!).toBe(500);
    expect(summary.end).toBe(summary.start + 10_000);
    expect(written).toBeGreaterThan(90); // ~10 vehicles x 10 s, plus heartbeats
  });
});
