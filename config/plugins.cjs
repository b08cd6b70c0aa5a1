// serverless.yml's plugin list: esbuild bundling for every stage but `local`, where serverless-offline runs TypeScript directly.
module.exports.plugins = async ({ options }) => {
  const stage = options.stage ?? 'local';
  return stage === 'local' ? ['serverless-offline'] : ['serverless-esbuild', 'serverless-offline'];
};
