package sampler

// mt19937 is the 32-bit Mersenne Twister exactly as torch's CPU generator
// runs it (at::mt19937): the standard initialisation from a 32-bit seed and
// the standard tempering.
type mt19937 struct {
	state [624]uint32
	next  int // index of the next word to temper; 624 means "regenerate"
}

func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{next: 624}
	m.state[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// regenerate computes the next 624 words of state in place.
func (m *mt19937) regenerate() {
	s := &m.state
	for k := 0; k < 624; k++ {
		y := (s[k] & 0x80000000) | (s[(k+1)%624] & 0x7fffffff)
		v := s[(k+397)%624] ^ (y >> 1)
		if y&1 != 0 {
			v ^= 0x9908b0df
		}
		s[k] = v
	}
	m.next = 0
}

// uint32 returns the next tempered 32-bit output.
func (m *mt19937) uint32() uint32 {
	if m.next >= 624 {
		m.regenerate()
	}
	y := m.state[m.next]
	m.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// uint64 is torch's 64-bit draw: the first 32-bit output is the high half.
func (m *mt19937) uint64() uint64 {
	hi := uint64(m.uint32())
	lo := uint64(m.uint32())
	return hi<<32 | lo
}
