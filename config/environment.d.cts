// Types of config/environment.cjs (the one list of environment variables) for the TypeScript that imports it.
export interface Variable {
  name: string;
  default: string;
  applies: 'local' | 'prod' | 'both';
  kind: 'function' | 'secret' | 'stack' | 'platform';
  param?: string;
  doc: string;
}
export declare const VARIABLES: readonly Variable[];
export declare const RATE_LIMIT_PREFIX: string;
export declare const LOOPBACK_STAGES: readonly string[];
export declare function isKnown(name: string): boolean;
export declare function isLoopbackHost(host: string): boolean;
export declare function stageProblems(stage: string, env: Record<string, unknown>): string[];
export declare function environment(input: {
  options: { stage?: string };
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<Record<string, unknown>>;
export declare function variablesTable(): string;
