"""The cluster log's keys in Redis and the Lua scripts that change them.

Theory of operation
-------------------
Everything a node does to the shared log is one script, so Redis runs it
whole, with nothing in between; that is what makes the rules hold.

* The log has an incarnation, ``netepoch``: a random word written when the
  log is made. A node remembers the one it joined; every script checks it
  first and answers ``LOST`` if it changed (Redis restarted empty, or a node
  found the log damaged and started a new one): then the node must drop
  everything it built from the old log.
* A node joins with a new ``epoch`` (one counter for all nodes, never
  reused within a log) and holds a lease that it renews. Its appends carry
  its epoch, and the script refuses them (``FENCED``) once ``nodes`` no
  longer names that epoch for it: a node that paused past its lease, and
  was reaped meanwhile, cannot add a word to the log afterwards.
* Each append carries the node's own sequence numbers; the script skips
  those it already took, so a batch sent again after a lost reply is not
  added twice.
* Every entry gets the next number of ``count`` (field ``n``), so readers
  see a log without gaps, or know it has one (:mod:`.wire`).
* Reaping: any node may run :data:`REAP`; it writes one ``gone`` entry per
  node whose lease key expired, and removes the node in the same step, so a
  dead node's users quit exactly once.

All keys share the hash tag ``{network}``: one Redis Cluster slot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """The names of one network's keys."""

    prefix: str

    @classmethod
    def of(cls, network: str) -> Keys:
        """The keys of ``network`` (``hubbub:{network}:...``)."""
        return cls(f"hubbub:{{{network}}}:")

    @property
    def log(self) -> str:
        """The stream: every event of the network, in order."""
        return self.prefix + "log"

    @property
    def netepoch(self) -> str:
        """The log's incarnation (a random word)."""
        return self.prefix + "netepoch"

    @property
    def epochs(self) -> str:
        """The counter nodes' epochs come from."""
        return self.prefix + "epochs"

    @property
    def count(self) -> str:
        """The number of the last entry (entries are numbered 1, 2, 3 ...)."""
        return self.prefix + "count"

    @property
    def nodes(self) -> str:
        """Hash: node -> its live epoch."""
        return self.prefix + "nodes"

    @property
    def seq(self) -> str:
        """Hash: node -> the last of its own sequence numbers appended."""
        return self.prefix + "seq"

    @property
    def positions(self) -> str:
        """Hash: node -> what it last reported: ``<entry id> <number> <ms> <lag ms>``."""
        return self.prefix + "pos"

    @property
    def archived(self) -> str:
        """How far the archiver has put the log into PostgreSQL: ``<entry id> <number>``."""
        return self.prefix + "archived"

    @property
    def snapshot(self) -> str:
        """The latest snapshot of the network state (JSON), for late joiners."""
        return self.prefix + "snapshot"

    @property
    def lease_prefix(self) -> str:
        """``lease:<node>``: present while the node is alive (expires)."""
        return self.prefix + "lease:"

    def lease(self, node: str) -> str:
        """The lease key of ``node``."""
        return self.lease_prefix + node

    def role(self, name: str) -> str:
        """A role only one node holds at a time (``snapshotter``, ``archiver``)."""
        return self.prefix + "role:" + name

    def all(self) -> tuple[str, ...]:
        """The keys a new log starts without."""
        return (self.log, self.count, self.nodes, self.seq, self.positions, self.snapshot,
                self.archived)


#: Entries a read returns at most.
READ_COUNT = 512

# Shared by the scripts: add an entry with the next number.
_ADD = """
local function add(log, count, ...)
  local n = redis.call('INCR', count)
  return redis.call('XADD', log, '*', 'n', n, ...)
end
"""

#: Join: KEYS netepoch epochs nodes seq log count lease positions snapshot archived;
#: ARGV node lease_ms new_netepoch. Makes the log if there is none (or only
#: the remains of a lost one), reaps a previous incarnation of the node,
#: takes a new epoch and the lease, and writes the ``joined`` entry.
#: Returns {netepoch, epoch, id of the joined entry, its number, 1 if made}.
JOIN = _ADD + """
local net = redis.call('GET', KEYS[1])
local made = 0
if not net then
  net = ARGV[3]
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[8], KEYS[9], KEYS[10])
  redis.call('SET', KEYS[1], net)
  made = 1
end
local epoch = redis.call('INCR', KEYS[2])
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then
  add(KEYS[5], KEYS[6], 'k', 'gone', 'node', ARGV[1], 'epoch', old, 'why', 'restarted')
end
redis.call('HSET', KEYS[3], ARGV[1], epoch)
redis.call('HSET', KEYS[4], ARGV[1], 0)
redis.call('SET', KEYS[7], epoch, 'PX', ARGV[2])
local id = add(KEYS[5], KEYS[6], 'k', 'joined', 'node', ARGV[1], 'epoch', epoch)
return {net, epoch, id, redis.call('GET', KEYS[6]), made}
"""

#: Append: KEYS netepoch nodes seq log count; ARGV netepoch node epoch
#: first_seq, then msgid body pairs. Returns {'OK', added, number of the last
#: entry} | {'FENCED'} | {'LOST'}. Those not added were the batch's first ones.
APPEND = _ADD + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'LOST'} end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return {'FENCED'} end
local last = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
local seq = tonumber(ARGV[4])
local added = 0
for i = 5, #ARGV, 2 do
  if seq > last then
    add(KEYS[4], KEYS[5], 'm', ARGV[i], 'e', ARGV[i + 1])
    last = seq
    added = added + 1
  end
  seq = seq + 1
end
redis.call('HSET', KEYS[3], ARGV[2], last)
return {'OK', added, tonumber(redis.call('GET', KEYS[5]))}
"""

#: Renew: KEYS netepoch nodes lease positions; ARGV netepoch node epoch
#: lease_ms report. Returns 'OK' | 'FENCED' | 'LOST'.
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'LOST' end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return 'FENCED' end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[5])
return 'OK'
"""

#: Reap: KEYS netepoch nodes seq positions log count; ARGV netepoch
#: lease_prefix. Returns the nodes reaped.
REAP = _ADD + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {} end
local gone = {}
local nodes = redis.call('HGETALL', KEYS[2])
for i = 1, #nodes, 2 do
  local node, epoch = nodes[i], nodes[i + 1]
  if redis.call('EXISTS', ARGV[2] .. node) == 0 then
    redis.call('HDEL', KEYS[2], node)
    redis.call('HDEL', KEYS[3], node)
    redis.call('HDEL', KEYS[4], node)
    add(KEYS[5], KEYS[6], 'k', 'gone', 'node', node, 'epoch', epoch, 'why', 'lease')
    table.insert(gone, node)
  end
end
return gone
"""

#: Leave (a clean stop): KEYS netepoch nodes seq positions log count lease;
#: ARGV netepoch node epoch. Returns 1 if the node was still in.
LEAVE = _ADD + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('DEL', KEYS[7])
add(KEYS[5], KEYS[6], 'k', 'gone', 'node', ARGV[2], 'epoch', ARGV[3], 'why', 'stopped')
return 1
"""

#: Start a new log because the old one is damaged (it went back in time):
#: KEYS netepoch + Keys.all(); ARGV the netepoch found damaged, a new one.
#: Only the first node to notice does it. Returns 1 if it did.
RESET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

#: Hold a role (or keep holding it): KEYS role; ARGV node ms. Returns 1 if held.
HOLD_ROLE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
