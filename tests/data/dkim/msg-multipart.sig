DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023r; t=1700000000;
	bh=h1PNTekoD7Okxk3W8jg0Ld+di94taIChWxMS6l98E5Q=;
	h=From:Reply-To:To:Subject:Date:Message-ID:MIME-Version:
	 Content-Type:from;
	b=X1Nr/duuwSf1X35kU6U/Rjfw9FFg0lu/viDk8oP1lGGK0s+6jorYPFwk5wqB9KJdy
	 vEsLkNkovpdCaF+bcswvPUXIvn4SAu60nCazzj8T/XT0Ruv2dllAUV1Ig+AMZmP4+O
	 1+DmsPsTG+DXv2w9K3BZiLXRgkuHE+zy3Ay/CZI7yKndVCM4u6z9Nj19fHRrCkL9hS
	 54gDL1NIWkfhME1K1sy9nxkoGUvtZO9/GReT3NSqp6W4hU0vIs6jrmMg8kX/u48K3x
	 chZD3GMHOu1tqNF8njK842NLZuv6YOpGy4IOPgHGwApmCoFHJ1wp77V2NA9OaJRKoQ
	 LU3UyoeGC7egQ==
DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.com;
	s=f2m2023e; t=1700000000;
	bh=h1PNTekoD7Okxk3W8jg0Ld+di94taIChWxMS6l98E5Q=;
	h=From:Reply-To:To:Subject:Date:Message-ID:MIME-Version:
	 Content-Type:from;
	b=gxcpL+p2CvIFisW34FuBXzZkZIPJHXWQkuU92JcuBf0HxJjaXf1uyeSl+1XjZBFnd
	 ZmuzaWwQiS7CuKT5QUHBQ==
