// Imported first by bench/run.ts: the project's JSON logs stay off unless LOG_LEVEL asks (they would bury the progress lines).
process.env['LOG_LEVEL'] ??= 'silent';
