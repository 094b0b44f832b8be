//! One bank's state machine: which row is open and when the next ACT, column command and
//! PRE may issue.

use super::timing::DramTiming;

/// Open-row state and earliest command times of one bank (cycles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bank {
    /// The open row, if any.
    pub open_row: Option<u32>,
    /// Earliest ACT (tRP after PRE, tRC after ACT, tRFC after REF).
    pub next_act: u64,
    /// Earliest RD/WR (tRCD after ACT).
    pub next_col: u64,
    /// Earliest PRE (tRAS after ACT, tRTP after RD, write recovery after WR).
    pub next_pre: u64,
}

impl Bank {
    /// Opens `row` at `t`.
    pub fn activate(&mut self, t: u64, row: u32, timing: &DramTiming) {
        debug_assert!(self.open_row.is_none() && t >= self.next_act);
        self.open_row = Some(row);
        self.next_col = t + timing.rcd;
        self.next_pre = t + timing.ras;
        self.next_act = t + timing.ras + timing.rp;
    }

    /// Closes the open row at `t`.
    pub fn precharge(&mut self, t: u64, timing: &DramTiming) {
        debug_assert!(t >= self.next_pre);
        self.open_row = None;
        self.next_act = self.next_act.max(t + timing.rp);
    }

    /// Records a read command at `t`.
    pub fn read(&mut self, t: u64, timing: &DramTiming) {
        self.next_pre = self.next_pre.max(t + timing.rtp);
    }

    /// Records a write command at `t`.
    pub fn write(&mut self, t: u64, timing: &DramTiming) {
        self.next_pre = self.next_pre.max(t + timing.wr_to_pre());
    }

    /// Earliest time this bank could be precharged for a refresh starting no earlier than
    /// `t`, and the earliest REF after it.
    pub fn ready_for_refresh(&self, t: u64, timing: &DramTiming) -> (Option<u64>, u64) {
        match self.open_row {
            Some(_) => {
                let pre = t.max(self.next_pre);
                (Some(pre), pre + timing.rp)
            }
            None => (None, t.max(self.next_act)),
        }
    }
}
