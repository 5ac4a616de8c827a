// The `process` the shared code reads (its working directory, environment, platform).
export const process = {
  cwd: () => "/",
  env: {} as Record<string, string | undefined>,
  platform: "browser",
  argv: [] as string[],
  on: () => undefined,
  versions: {},
};

// Node's setImmediate, which the server schedules its checks with: the next macrotask.
export const setImmediate = (f: () => void): ReturnType<typeof setTimeout> => setTimeout(f, 0);
export const clearImmediate = (h: ReturnType<typeof setTimeout>): void => clearTimeout(h);
