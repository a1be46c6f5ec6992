/** Placeholder until the heap backend's upgrade-story suite moves here. */
export {};
