"""The verifier: pure Python, no Django. Fetch a page safely, parse it, judge a link."""
