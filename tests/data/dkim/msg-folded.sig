DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023r; t=1700000000;
	bh=1UVHLwabajx/th4rK7pV1KLJyN0OZgFlPqIgag67P6Q=;
	h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:
	 Content-Transfer-Encoding:from;
	b=LZzp9slNoHCHakeP3+CUeyHbMZvoufh16M0IjscqQs5z+gvfKi4ZfjqPd5wHl7H01
	 vJfQZfXFmpaY1xUJ0ERDs9+aTMj+CZ6XUjoEebCpNM7m0psWZuFiU15eiJmAJLeJvN
	 GA9IQiyXPg6M98ctKvUwdstKSQSglHTbkHqnNNy3LRRem3byY05L8y1RTNuJRWQ2h0
	 E7MHLXPm1WDqb1J+E/0u6xAW1zgl0zPidWMaCbd8boEMaemwnyx/DJYs/xEUaBRn1e
	 DEL9fKGZVG1+ZcJNeihB0HKq3hsHWZt2PDtPI5djTvvWYfzaaOH+4SvJs8RbGYfiRy
	 6GsqT0AL/ONug==
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023e; t=1700000000;
	bh=1UVHLwabajx/th4rK7pV1KLJyN0OZgFlPqIgag67P6Q=;
	h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:
	 Content-Transfer-Encoding:from;
	b=tWwG8O6Esf8eXyCIMeDh4BHarFb9WCuX2itFSQ2bj72Z5fmZ1aVyZhoWyxPSLjZ6T
	 CALfWk+RyTYrqGbEMawBA==
