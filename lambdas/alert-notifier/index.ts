// PLACEHOLDER from branch h-cdk, only so that this branch's synth can bundle the alert notifier's entry.
// The real handler is on h-lambdas: on merge, take h-lambdas' lambdas/alert-notifier/ whole.
// It fails every invocation, so it can never pass for the real thing.
export const handler = async (): Promise<never> => {
  throw new Error('alert-notifier placeholder from h-cdk: the real handler comes from h-lambdas');
};
