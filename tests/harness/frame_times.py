"""When each response header block of an `nghttp -v` run arrived.

nghttp prints every received header field with the time since it started, e.g.
`[  0.305] recv (stream_id=13) :status: 302`; `:status` comes first in each
block, so its line dates the block. `clients.nghttp` keeps the parsed streams;
this reads the same output again for the times only.
"""

import re
from dataclasses import dataclass
from typing import List

from .clients import H2Result

_STATUS = re.compile(rb"^\[ *(\d+\.\d+)\] recv \(stream_id=(\d+)\) :status: (\d{3})$", re.M)


@dataclass
class Block:
    at: float        # seconds since nghttp started
    status: int


def blocks(result: H2Result, stream_id: int = None) -> List[Block]:
    """The response header blocks of one stream (the request's by default), in
    the order they arrived: the 1xx ones, then the final one."""
    sid = result.main_id if stream_id is None else stream_id
    return [Block(float(t), int(status)) for t, s, status in _STATUS.findall(result.out)
            if int(s) == sid]


def lead(result: H2Result, stream_id: int = None) -> float:
    """Seconds between the first 103 and the final response on the stream."""
    seen = blocks(result, stream_id)
    hints = [b for b in seen if b.status == 103]
    final = [b for b in seen if b.status >= 200]
    assert hints and final, f"no 103 and final response on the stream: {seen}\n" \
        + result.describe()
    return final[0].at - hints[0].at
