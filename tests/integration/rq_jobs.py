"""Job functions for test_job_queue_rq.py, imported by the rq worker processes."""


def double(number: int) -> int:
    return 2 * number


def fail_once_in_a_while(number: int) -> int:
    if number % 97 == 0:
        raise ValueError(f"job {number} fails on purpose")
    return number
