"""Free TCP ports, for the trace intake's receivers here and for every test of the repository that needs one."""

import socket


def free_ports(count: int = 1, host: str = '127.0.0.1') -> list[int]:
    """``count`` distinct ports on ``host`` that were free a moment ago (the kernel picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
