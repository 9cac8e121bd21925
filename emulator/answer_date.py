"""Each answer dated when its request arrived, so a stack's events come after CreateStack's answer.

CloudFormation answers CreateStack (and UpdateStack, DeleteStack) first and works on the stack
afterwards, so every event of the operation is later than the answer
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html: the
call returns the StackId; DescribeStackEvents shows the creation's progress). moto 5.2.5
creates a stack's resources inside CreateStack, before it answers. Clients rely on the order:
Sceptre prints only the events later than the answer's ``Date`` header, which has whole
seconds, so when moto's work crossed a second boundary Sceptre silently dropped the events
from before it, the failed resource's reason among them.

werkzeug dates an answer when it sends it (``BaseHTTPRequestHandler.send_response``). Here it is
dated when its request arrived, rounded down to the second as the header is: never later than
anything the request did. Seam: ``WSGIRequestHandler.run_wsgi`` (one call per request) and
``date_time_string`` (what ``send_response`` writes).
"""

import time

from werkzeug.serving import WSGIRequestHandler


def install() -> None:
    """Date werkzeug's answers by their request's arrival. Idempotent."""
    run_wsgi = WSGIRequestHandler.run_wsgi
    if getattr(run_wsgi, "_dates_by_arrival", False):
        return

    def run_wsgi_noting_arrival(self: WSGIRequestHandler) -> None:
        self._arrived = time.time()
        run_wsgi(self)

    date_time_string = WSGIRequestHandler.date_time_string

    def date_time_string_of_arrival(self: WSGIRequestHandler, timestamp: float | None = None):
        if timestamp is None:
            timestamp = getattr(self, "_arrived", None)
        return date_time_string(self, timestamp)

    run_wsgi_noting_arrival._dates_by_arrival = True
    WSGIRequestHandler.run_wsgi = run_wsgi_noting_arrival
    WSGIRequestHandler.date_time_string = date_time_string_of_arrival
