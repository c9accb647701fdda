import type { LiveSnapshot } from './live-snapshot.ts';

/** A running dashboard: where it is served, and how to stop it. */
export interface RunningDashboard {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The seam between `prestage up` and its web dashboard (src/live/dashboard/): given the port and a function that
 * returns the current snapshot, serve it. `up` starts it after the data plane and closes it with everything else.
 */
export interface LiveDashboard {
  start(options: {
    readonly port: number;
    readonly snapshot: () => LiveSnapshot;
    readonly log: (line: string) => void;
  }): Promise<RunningDashboard>;
}
