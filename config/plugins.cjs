// serverless.yml's plugin list: esbuild bundling for every stage but `local`, where serverless-offline runs TypeScript directly;
// the stage's choice of REST API or HTTP API routes (config/http-events.cjs) wherever a stack is built.
module.exports.plugins = async ({ options }) => {
  const stage = options.stage ?? 'local';
  return stage === 'local'
    ? ['serverless-offline']
    : ['serverless-esbuild', 'serverless-offline', './config/http-events.cjs'];
};
