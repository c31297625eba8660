/**
 * plate-slide (Meta-World plate-slide-v2): slide a flat plate across the table into a goal cage.
 * The plate rides on two real prismatic joints, as in Meta-World (x: [-0.2, 0.2], y: [0, 0.3] from
 * its start, damping 1): a fixed channel, a carriage sliding in x, the plate sliding in y on it.
 * Departures: the carriage's 0.01 kg (see buildObjects); the goal cage is drawn, not simulated
 * (nothing reaches it: the slide's y limit stops the plate at its mouth, as in Meta-World).
 */
import type { Rng } from '../../core/rng.js';
import type { Scene } from '../scene.js';
import { SawyerEnv, makeInfo, type Evaluation } from '../sawyer-env.js';
import { writeScipyPose } from './scipy-quat.js';
import { sampleIn } from '../objects.js';
import { hamacherProduct, tolerance } from '../reward-utils.js';
import { add, dist, distXY, slice3, type Quat, type Vec3 } from '../vec.js';
import { action, move, parseObs } from '../policies/policy.js';
import { rapier } from '../physics.js';
import type RAPIER_NS from '@dimforge/rapier3d-compat';

const PLATE_START: Vec3 = [0, 0.6, 0.015];
/** Meta-World's obj_init_pos (rand_vec[:3], fixed): the channel position at table level. */
const OBJ_INIT_POS: Vec3 = [0, 0.6, 0];
const GOAL_LOW: Vec3 = [-0.1, 0.85, 0];
const GOAL_HIGH: Vec3 = [0.1, 0.9, 0];

export class PlateSlideEnv extends SawyerEnv {
  readonly name = 'plate-slide';
  readonly description = 'Slide a plate across the table into a goal cage.';
  protected readonly handInit: Vec3 = [0, 0.6, 0.2];
  protected readonly goalLow = GOAL_LOW;
  protected readonly goalHigh = GOAL_HIGH;
  private target: Vec3 = [0, 0.85, 0];
  private plate!: RAPIER_NS.RigidBody;

  protected sampleTask(rng: Rng): void {
    this.target = sampleIn(rng, GOAL_LOW, GOAL_HIGH);
  }

  protected buildObjects(scene: Scene): void {
    const R = rapier();
    const channel = scene.addBody('plate_channel', 'fixed', PLATE_START);
    const carriage = scene.addBody('plate_carriage', 'dynamic', PLATE_START);
    // Meta-World: one 0.05 kg body on both slides. The carriage adds 0.01 kg to motion in x only; at
    // 0.001 kg the chained joints go soft and the expert's success fell to 32% (50 seeds).
    carriage.setAdditionalMass(0.01, false);
    carriage.setGravityScale(0, false);
    this.plate = scene.addBody('plate', 'dynamic', PLATE_START);
    scene.box(this.plate, [0.05, 0.05, 0.015], { mass: 0.05, friction: 0.5, color: '#16a085' });
    const slide = (a: RAPIER_NS.RigidBody, b: RAPIER_NS.RigidBody, axis: Vec3, lo: number, hi: number) => {
      const d = R.JointData.prismatic({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0 }, { x: axis[0], y: axis[1], z: axis[2] });
      d.limitsEnabled = true;
      d.limits = [lo, hi];
      const j = scene.world.createImpulseJoint(d, a, b, true) as RAPIER_NS.PrismaticImpulseJoint;
      j.setLimits(lo, hi);
      j.setContactsEnabled(false);
      j.configureMotorModel(R.MotorModel.ForceBased);
      j.configureMotorVelocity(0, 1); // Meta-World's slide damping 1
    };
    slide(channel, carriage, [1, 0, 0], -0.2, 0.2);
    slide(carriage, this.plate, [0, 1, 0], 0, 0.3);

    // Goal cage ("net"): drawn only.
    const net = scene.addBody('goal_net', 'fixed', this.target);
    const metal = { color: '#95a5a6', visualOnly: true };
    const alongY: Quat = [-Math.SQRT1_2, 0, 0, Math.SQRT1_2];
    const alongX: Quat = [0, Math.SQRT1_2, 0, Math.SQRT1_2];
    for (const x of [-0.1, 0.1]) {
      scene.capsule(net, 0.008, 0.073, { ...metal, position: [x, 0.073, 0.01], quaternion: alongY });
      scene.capsule(net, 0.008, 0.082, { ...metal, position: [x, 0.0, 0.092] });
    }
    scene.capsule(net, 0.008, 0.1, { ...metal, position: [0, 0, 0.174], quaternion: alongX });
    scene.addMarker('goal', add(this.target, [0, 0, 0.015]), 0.015);
  }

  protected writeObjects(obs: Float32Array): void {
    // Meta-World: the puck geom's position and Rotation.from_matrix(...).as_quat() (x first, scipy's sign).
    writeScipyPose(obs, 4, this.plate);
  }

  goal(): Vec3 {
    return this.target;
  }

  protected extraRewardInputs(): Record<string, number | number[]> {
    return { obj_init_pos: [...OBJ_INIT_POS] };
  }

  protected evaluate(): Evaluation {
    const obj = slice3(this.obs, 4);
    const objToTarget = dist(obj, this.target);
    const tcpToObj = dist(this.tcp, obj);
    // Margins from Meta-World's obj_init_pos, the table-level (0, 0.6, 0), not the plate centre.
    const inPlace = tolerance(objToTarget, [0, 0.05], dist(OBJ_INIT_POS, this.target), 'long_tail');
    const near = tolerance(tcpToObj, [0, 0.05], dist(this.initTcp, OBJ_INIT_POS), 'long_tail');
    let reward = 8 * hamacherProduct(near, inPlace);
    if (objToTarget < 0.05) reward = 10;
    return {
      reward,
      info: makeInfo(reward, objToTarget <= 0.07, {
        near_object: tcpToObj <= 0.03 ? 1 : 0,
        grasp_success: 0,
        grasp_reward: near,
        in_place_reward: inPlace,
        obj_to_target: objToTarget,
      }),
    };
  }
}

/** Meta-World's plate-slide expert (gain 10, gripper open): in front of the plate, push it in +y. */
export function plateSlidePolicy(obs: Float32Array): Float32Array {
  const o = parseObs(obs);
  const p0: Vec3 = [o.obj[0], o.obj[1] - 0.055, o.obj[2] + 0.03];
  let to: Vec3;
  if (distXY(o.hand, p0) > 0.03) to = [p0[0], p0[1], p0[2] + 0.1];
  else if (Math.abs(o.hand[2] - p0[2]) > 0.04) to = p0;
  else to = [o.goal[0], 0.9, p0[2]];
  return action(move(o.hand, to, 10), -1);
}
