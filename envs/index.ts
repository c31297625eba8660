export { initPhysics } from './physics.js';
export { makeEnv, getTask, taskNames, scriptedPolicy, withPrivilegedGoal, TASKS, type TaskEntry } from './registry.js';
export { SawyerEnv, OBS_DIM, ACT_DIM, MAX_PATH_LENGTH, INFO_KEYS, validateAction, ENV_VERSIONS, DEFAULT_ENV_VERSION, parseEnvVersion, type EnvOptions, type EnvVersion, type StepResult, type StepInfo } from './sawyer-env.js';
export { VectorEnv, type VectorStep } from './vector-env.js';
export { EpisodeRecorder } from './recorder.js';
export { saveTrajectories, loadTrajectories, type TrajectoryFile } from './trajectory-file.js';
export { checkEnv } from './env-checker.js';
export type { SceneGeometry, VisualSpec, ShapeSpec } from './geometry.js';
export type { Policy } from './policies/policy.js';
