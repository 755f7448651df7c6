//! Where a replica runs: the seam where nodes sit under replicas (ARCHITECTURE.md, "Seams").
//!
//! Today every replica runs on a cluster without limits ([`Placement::Unbounded`]): its pod runs
//! after its own pending time and is ready after its own start-up, whatever else is running.
//! Node pools under the pods (a pod pending until a node with room exists, node provisioning and
//! image pulls, the Cluster Autoscaler or Karpenter adding and removing nodes, cost per node) are
//! a second variant: the engine asks the placement, and only it, when a requested replica's pod
//! runs and when it is ready.

use crate::time::Time;

/// How replicas are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// Room for every replica at once.
    Unbounded,
}

/// When a requested replica's pod runs and when it is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Placed {
    /// The pod is running (`status.startTime`); `Pending` before.
    pub running: Time,
    /// The replica is ready and takes traffic.
    pub ready: Time,
}

impl Placement {
    /// Places a replica requested at `now` whose own pending time is `pending` (to running)
    /// and start-up `startup` (to ready; `pending <= startup`).
    #[inline]
    pub fn place(&mut self, now: Time, pending: Time, startup: Time) -> Placed {
        match self {
            Placement::Unbounded => Placed { running: now + pending, ready: now + startup },
        }
    }
}
