// The local stack's fixed ports and credentials (dev, demo, drills, tests, bench; `npm run dev` prints them).
// They live beside the local stack, never in lib/: a deployed bundle must not carry the local admin key.
export const LOCAL_DEFAULTS = {
  redisPort: 6380,
  bridgePort: 8079,
  brokerPort: 8080,
  offlinePort: 3000,
  offlineLambdaPort: 3002,
  targetPort: 4000,
  redisToken: 'stagger-local-redis-token',
  qstashToken: 'stagger-local-qstash-token',
  currentSigningKey: 'sig_stagger_local_current',
  nextSigningKey: 'sig_stagger_local_next',
  adminApiKey: 'stagger-local-admin-key',
} as const;
