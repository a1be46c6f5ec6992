// Placeholder until this package is implemented.
export {};
