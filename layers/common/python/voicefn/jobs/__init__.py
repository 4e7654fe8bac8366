"""Declared background jobs: signed payloads, submit, one dispatch entry, leases, attempts, deadlines.

A function declares its jobs (:func:`job`), submits them (:func:`submit`) and hands every
delivery to :func:`handle` (or its :func:`dispatcher`). See :mod:`voicefn.jobs.runner` for what
a delivery does, :mod:`voicefn.jobs.lease` for the states of a task row, and
:mod:`voicefn.jobs.failures` for what may be retried.
"""

from voicefn.jobs.failures import Failure, classify
from voicefn.jobs.lease import JobState, job_state
from voicefn.jobs.registry import AGAIN, DONE, JobContext, JobOutcome, JobSpec, declared_jobs, get_job, job
from voicefn.jobs.runner import dispatcher, end_if_overdue, handle, handler_for, resume, run, submit
from voicefn.jobs.signing import sign_job, verify_job

__all__ = ["AGAIN", "DONE", "Failure", "JobContext", "JobOutcome", "JobSpec", "JobState", "classify",
           "declared_jobs", "dispatcher", "end_if_overdue", "get_job", "handle", "handler_for", "job",
           "job_state", "resume", "run", "sign_job", "submit", "verify_job"]
